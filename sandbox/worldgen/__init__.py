"""Generators that build a `sandbox.world.World` piece by piece.

Each module draws from its own `random.Random`, seeded from the world seed and
the module's name, so adding a field to one part never reshuffles another.
"""
