"""Configuration: `clearance.toml` read and checked into typed records."""
