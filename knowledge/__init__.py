"""The shop's knowledge: catalogue, customers, orders and policies in SQL, FAISS retrieval over them.

Entry point for the assistant: ``knowledge.service.ShopKnowledge``; command line:
``python -m knowledge`` (see ``knowledge/README.md``).
"""
