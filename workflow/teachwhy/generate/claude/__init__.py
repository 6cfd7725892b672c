"""The paper world's generator backend (issue 15), built in steps. So far its request layer
(``requests``): a content-addressed response cache, a spend ledger with a hard budget, the
Messages API with bounded concurrency and the Message Batches API with resumable batches. No
dataset is generated through it yet."""
