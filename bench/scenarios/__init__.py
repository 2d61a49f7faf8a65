"""One module per benchmark scenario; each has run(context) -> dict of figures."""
