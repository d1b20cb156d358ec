"""Act (stage 5): labels written into files, release to a partner, quarantine, overrides."""
