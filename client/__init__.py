"""The Python client API that back-office automation and starter.py use to drive cases (client.api).

Nothing is imported here: worker.py's activities use small parts of this package (client.tokens), and
importing client.api eagerly would import the workflows from inside the activities' own import.
"""
