package schema

// MaxUserIDLength is the longest user id, in bytes, that Pulse accepts
// anywhere: in an analytics event or recommendation (userId), and in a
// forget request. One rule, so that every id an event can carry can also
// be forgotten.
const MaxUserIDLength = 1024
