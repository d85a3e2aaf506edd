"""The demo company and the generated companies of the benchmark."""
