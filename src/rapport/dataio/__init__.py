"""Moving data in and out: the benchmark generator (`rapport seed`) and the demo bakery."""
