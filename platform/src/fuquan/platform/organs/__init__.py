"""机关与服务点: the organ each unit is, the service points where residents are served, and the organ a notice is
issued in the name of."""
