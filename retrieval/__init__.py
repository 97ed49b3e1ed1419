"""Finding things in the shop: sentence embeddings, FAISS indexes and their upkeep, product search
(semantic + keyword, with filters), recommendations, policy answers and product questions.
"""
