"""The learning loop: shoppers' messages the bot may have misread join a review queue
(:mod:`learning.collect`), reviewers label them (:mod:`learning.review`), and the labels become
Rasa training data beside the bot's own (:mod:`learning.export`). ``shop learn`` runs each step."""
