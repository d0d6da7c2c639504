"""电子证照: the result of an approved case as a structured record signed with SM2 by the issuing organ's key,
verifiable by anyone from its number and 核验码, and revoked when the decision is."""
