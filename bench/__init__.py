"""Benchmarks of the FAQ assistant (not tests): HTTP, in-process, scale and start-up."""
