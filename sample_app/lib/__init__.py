"""Code shared by the controllers and templates."""
