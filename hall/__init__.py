"""hall: the reference county sub-hall (API for kiosks, console for county staff)."""
