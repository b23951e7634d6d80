"""What `batch check` says, as catalog texts (translated where shown, `batch.i18n`)."""

from __future__ import annotations

from batch.i18n import N_

SETTINGS_OK = N_("settings are valid")
FIX_SETTINGS = N_("correct the setting named, in the config file or its BATCH_* variable")
FIX_CERTIFICATE = N_("check the certificate's path, password and key; renew it if expired")
CERTIFICATE_OK = N_("{file}: valid until {date} ({days} days left)")
RENEW = N_("order the new certificate now and put it in place before the date")
NO_CERTIFICATES = N_("no client or signing certificate configured")
FIX_WSDL = N_(
    "check wsdl and endpoint; a WSDL from STIL must name IndberetningKontaktJobOgUddOensker"
)
WSDL_OK = N_("the WSDL is read and names the operation; the address is {endpoint}")
FIX_NETWORK = N_("check the address, the network and the firewall")
ADVICE = {
    "dns": N_("check the host name, or the proxy's (proxy, HTTPS_PROXY); is DNS reachable?"),
    "tcp": N_("check the port and the firewall towards the address, or the proxy's"),
    "proxy": N_("check the proxy's address, user and password (proxy or BATCH_PROXY)"),
    "tls": N_("check tls_ca_bundle and the client certificate; the message says which side"),
    "http": N_(
        "the connection opened but no HTTP answer came: check the address and the certificate"
    ),
}
NO_DATE = N_("the service's answer has no Date header: the clocks were not compared")
SYNC_CLOCK = N_("synchronise this machine's clock (NTP): signatures are valid for 5 minutes")
CLOCK = N_("this machine's clock is {seconds} s from the service's")
NOT_WRITABLE = N_("{path} is not writable: {error}")
FIX_DIRECTORY = N_("create the directory, or give the user running batch write access to it")
WRITABLE = N_("{path} is writable")
WILL_CREATE = N_("{path} does not exist yet and will be created")
DISK = N_("{path}: {free} GiB free")
FREE_SPACE = N_("free disk space: the journal and the workbooks grow with every run")
LOCK_FREE = N_("the state directory's lock is free")
LOCK_TAKEN = N_("a batch run (pid {pid}) holds the state directory's lock")
WAIT_RUN = N_("wait for that run to finish, or find why it hangs")
SIMULATOR = N_("no wsdl or endpoint configured: runs go to the built-in simulator")
SET_ENDPOINT = N_("set wsdl and endpoint for the real platform (see README, Running it for real)")
NO_ADDRESS = N_("no address to try: the WSDL could not be read and no endpoint is set")
