"""Everything that speaks to UDB: the contract (WSDL), requests, TLS, signing, HTTP and answers.

Nothing here knows about files, the journal or the workbook: `UdbClient.send` takes one
`Report` and gives back an `Answer` (UDB's code and text) or a `Failure` (what went wrong on
the way, and whether waiting could heal it).
"""
