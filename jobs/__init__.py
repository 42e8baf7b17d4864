"""Code that runs under spark-submit or a MapReduce runner. Never imports luigi."""
