"""公众服务 verbs, one module per page: ``guides`` (办事指南 and where to go), ``lists`` (权力清单、责任清单) and
``policies`` (政策法规库); ``exports`` writes a power list as XLSX or PDF."""
