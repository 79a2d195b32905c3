"""Technology adapters: Cosmos DB, Storage queues, authentication and language-model providers."""
