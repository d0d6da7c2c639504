"""The SMS gateway (短信平台): the common shape of Chinese SMS platforms — a signed request naming an approved
template and its parameters, never free text — as Fuquan's adapter and a simulator with fault injection."""
