"""Run statistics: SQL passes that fetch columns, numpy figures over them."""
