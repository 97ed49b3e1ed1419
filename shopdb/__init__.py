"""The shop's database: every table (``shopdb.models``), migrations, the demo data generator, the loader
and the importer, the order and return operations with their ownership checks, the shop's policies
and product taxonomy, and the counters every process shares.
"""
