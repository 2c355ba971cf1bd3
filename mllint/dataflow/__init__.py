"""The data-flow engine: typed terms and their lattice, the per-module interpreter, and the project phase
that resolves a family's sinks to its sources across modules."""
