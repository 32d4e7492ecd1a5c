"""The county staff console: server-rendered HTML, no JavaScript."""
