// The console's pages. Each one names the methods it needs (needs), where
// it lives (#/path), and how it draws itself (draw returns nodes).
export const pages = [];
