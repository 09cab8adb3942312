"""The ``tindahan`` command line (Typer + Rich): parses input, calls services, prints."""
