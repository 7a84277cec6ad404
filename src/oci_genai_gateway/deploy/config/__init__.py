"""The deploy config file (TOML): its shape, its reader, and the checks that name the key at fault."""
