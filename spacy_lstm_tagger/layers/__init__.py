"""The Thinc side: the architectures, the feature layer that turns Docs into ids, the shim around
the torch network, and static vectors."""
