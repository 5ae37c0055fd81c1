"""One controller per module; PylonsApp imports them by routing name."""
