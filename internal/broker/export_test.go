package broker

// ModulePrefix exposes modulePrefix, so that tests can give it the build
// information of a program built without module information.
var ModulePrefix = modulePrefix

// Heartbeat renews r's presence now.
func (r *Redis) Heartbeat() { r.heartbeat() }

// EvictionWarning exposes evictionWarning.
var EvictionWarning = evictionWarning
