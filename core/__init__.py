"""The core every part builds on: settings, secrets and signatures, log masking, the clock.

Imports nothing of the project: every other package may import it.
"""
