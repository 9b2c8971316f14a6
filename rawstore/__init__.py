"""The raw store: the durable copy of every raw record a partner gave us.

Connectors pull; `rawstore.harvest` runs a connector into the store (`rawstore.store`);
indexers read changed raw records from it. So the store can rebuild the index without
asking partners again, and keeps what a partner deleted as a deletion.
"""
