namespace MetadataProxy.Benchmarks.Floors;

/// <summary>The static-file floor: nginx, one worker, serving the same bytes from a file, when nginx is installed.</summary>
internal static class NginxFloor
{
    public static string? Locate() =>
        new[] { "/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists);

    public static PinnedProcess Start(string nginx, string core, string directory, string file, int port)
    {
        var config = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(config, $$"""
            worker_processes 1;
            daemon off;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            {{(Environment.UserName == "root" ? "user root;" : "")}}
            events { worker_connections 1024; }
            http {
                access_log off;
                keepalive_requests 1000000;
                client_body_temp_path {{directory}};
                proxy_temp_path {{directory}};
                fastcgi_temp_path {{directory}};
                uwsgi_temp_path {{directory}};
                scgi_temp_path {{directory}};
                server {
                    listen 127.0.0.1:{{port}};
                    location / { default_type application/json; root {{Path.GetDirectoryName(file)}}; try_files /{{Path.GetFileName(file)}} =404; }
                }
            }
            """);
        return PinnedProcess.Start("nginx", core, nginx, ["-c", config, "-p", directory]);
    }
}
