"""Benchmarks the kit measures itself (learning-curve tables for the simulator)."""
