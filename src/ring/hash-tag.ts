/**
 * Hash tags (twemproxy `hash_tag`, Redis Cluster `{...}`): with delimiters
 * `{}`, only the text between the first `{` and the next `}` after it is
 * hashed, so `user:{42}:name` and `user:{42}:email` share a node. An empty or
 * unclosed tag hashes the whole key.
 */
export type HashTagExtractor = (key: string) => string;

export function hashTagExtractor(delimiters: string | undefined): HashTagExtractor {
  if (delimiters === undefined) return (key) => key;
  const [open, close] = [...delimiters] as [string, string];
  return (key) => {
    const start = key.indexOf(open);
    if (start === -1) return key;
    const end = key.indexOf(close, start + open.length);
    if (end === -1 || end === start + open.length) return key;
    return key.slice(start + open.length, end);
  };
}
