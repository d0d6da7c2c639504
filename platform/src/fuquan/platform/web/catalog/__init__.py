"""Web pages: 事项目录 and its maintenance (事项维护)."""
