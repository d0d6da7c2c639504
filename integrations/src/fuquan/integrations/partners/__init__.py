"""Partner departments' services: wire shapes shared by the adapters and the simulators."""
