"""batch: report KUI contact persons, job wishes and education wishes to STIL's Youth Database."""

__all__ = ["__version__"]

__version__ = "0.1.0"
