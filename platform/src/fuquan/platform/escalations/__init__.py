"""办不成事 escalations (DESIGN §13, seed 002): a resident whom the windows failed registers the problem at an
escalation desk; the duty leader of the day owns it until it is closed (首问负责), and it climbs the 1/3/5 tiers."""
