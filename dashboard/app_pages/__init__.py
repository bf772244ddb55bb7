"""One file per page, each reading like a description of its screen; the table of pages is web/pages.py."""
