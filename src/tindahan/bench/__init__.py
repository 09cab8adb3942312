"""Load generators that drive the real services (``tindahan … bench``)."""
