"""Real Spark, the MapReduce engines, the luigi command against the mirror and fault-injecting servers."""
