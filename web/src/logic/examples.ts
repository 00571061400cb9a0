// The example workflows of the repository's examples/ folder, built into the panel as separate
// small files that load only when picked.
const files = import.meta.glob('../../../examples/*.json', { query: '?raw', import: 'default' }) as Record<
  string,
  () => Promise<string>
>;

export interface ExampleWorkflow {
  name: string;
  load: () => Promise<string>;
}

export const examples: ExampleWorkflow[] = Object.entries(files)
  .map(([path, load]) => ({ name: path.split('/').pop() ?? path, load }))
  .sort((a, b) => a.name.localeCompare(b.name));
