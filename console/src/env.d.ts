// Vite turns a CSS import into a stylesheet of the built page.
declare module '*.css';
