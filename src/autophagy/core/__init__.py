"""The shared vocabulary: errors, plug-in registries and protocols, random streams, loop
schedules, batch simulators, verdict statistics and small linear algebra.

Floor 1: imports nothing else of autophagy, so every other package may import it.
"""
