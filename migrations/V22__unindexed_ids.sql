-- Issue 15, storage footprint: ids shared as objects (`store::objects::share_ids`, a
-- JSON string body) that the writer stores get hash 0 and are left out of the hash
-- index; the writer finds them in its cache (`store::object_cache`). Every other
-- object is looked up by its hash as before (`hash = ? AND hash <> 0`).
DROP INDEX cim_objects_hash;
CREATE INDEX cim_objects_hash ON cim_objects(hash) WHERE hash <> 0;
