-- The tracker store lives in its own database beside the shop's catalogue.
CREATE DATABASE rasa_tracker OWNER shop;
