-- Conversation search and erasure find a customer by identifier alone, on any
-- channel type: the primary key (channel_type, identifier) cannot serve that.
CREATE INDEX customer_identifiers_by_identifier ON customer_identifiers(identifier);
