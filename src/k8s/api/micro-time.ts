// metav1.MicroTime: RFC 3339 with exactly six fractional digits (the API server refuses other precisions).
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
