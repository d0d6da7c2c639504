"""The escalation desk's verbs: registration and referral (``desk``), the steps (``handling``), the tier job
(``tiers``) and what each reader sees (``reads``)."""
