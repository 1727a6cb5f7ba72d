"""One router per feature of the HTTP service."""
