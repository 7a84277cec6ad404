"""The compose target's files; cloud-init.yaml and gateway.env.example ship in the package as data."""
