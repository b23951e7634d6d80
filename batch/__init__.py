"""batch: report KUI contact persons, job wishes and education wishes to STIL's Youth Database."""

__all__ = ["__version__"]

# The only place the version is written: pyproject.toml reads it from here when the wheel is
# built (setuptools' dynamic version), so the wheel's name, `batch --version`, the journal's
# runs and the JSON summary can never disagree. Bump it here for every wheel that is installed.
__version__ = "0.1.0"
